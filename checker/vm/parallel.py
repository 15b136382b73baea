"""The VM engine's breadth-first search on several cores (`--workers N`),
with `checker.explore.bfs`'s contract, like `checker.vm.search.vm_bfs`.

Hash-partitioned and level-synchronous (issue 11): each of N parts owns
the states whose hash maps to it; per level, every part expands its
frontier and routes the successors to their owners, then every owner
stores its inbox, then the new states are ranked (`parallel_kernel`, numba
without the GIL, one Python thread a part). Between two phases, Python
handles what the kernels left to it, as `vm_bfs` does and with the same
functions of `checker.explore.common`: faults and escapes (the Python
engine expands the state, its successors are routed like the others),
states with no successor, invariants that do not plainly hold. That
driver-side logic is `checker.vm.levels`, shared with the Ray search
(`checker.vm.ray_search`), which keeps the parts in other processes.

The result is that of the single-threaded search, exactly: the kernels
carry, for every successor, the position at which the single-threaded BFS
meets it (a key: its parent's rank in the level and its own place among
the parent's successors); a state keeps its smallest key and that key's
parent, so parents, ranks and paths are the single-threaded search's.
After each level, the states Python must judge are judged in key order,
and `Outcome.offer` sees the violations in that order; when one ends the
search (or a new state passes --max-states), the counts of states and
transitions are those the single-threaded search had at that key. So
states, transitions, depth, verdict, the violation and its counterexample,
the other violations, and (after a complete search) the executed actions
and covers all agree, those too: the kernels expand a level to its end,
past the point where a violation stops the search, so then the marks go
back to those before the level and the states before that point are
expanded again, only to mark them (`replay`).

A part keeps its rows as `store.Store` keeps the single-threaded search's:
dense, or in a tree store of its own (`--store tree`, or `--store auto`
past the part's share of `TREE_AT_BYTES` for rows wider than
`TIGHT_WORDS`), whose root ids are the part's indices; the kernels decode
a row to expand it.

The state graph for the livelock pass is recorded too (each step as the
parent's global id and the local index of the target); at the end, every
state is numbered in the single-threaded search's order and the arrays
are handed to `search`'s finish as one store.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass

import numpy as np

from checker.explore.bfs import Level
from checker.explore.codegen import Compiled
from checker.explore.common import Outcome, StateGraph, check_invariant
from checker.explore.limits import Budget
from checker.explore.result import Stats, Violation
from checker.explore.run import Search
from checker.vm import growable
from checker.vm import kernel as K
from checker.vm import parallel_kernel as PK
from checker.vm.layout import NotSupported, Words
from checker.vm.levels import (
    Candidate,
    Stop,
    cap_key,
    invariant_judge,
    judge_events,
    replay_python,
    restore_marks,
    states_before,
    successors_before,
    walk,
)
from checker.vm.machine import Machine
from checker.vm.program import META_FIN, META_INV, META_NACTIONS, Program, compile_program
from checker.vm.search import CHECK_EVERY, finish, words_of_packed
from checker.vm.store import (
    TREE_AT_BYTES,
    Store,
    decoded,
    dense_of,
    dense_room,
    rows_growth_bytes,
    table_room,
    tree_entries,
    tree_of,
    wants_tree,
)
from checker.vm.treestore import TreeStore

_WAIT_S = 0.05
# What a part's outboxes hold (bytes): a level is expanded in rounds of at
# most this much per part, each round's rows then stored by their owners,
# so the exchange needs no memory in proportion to a level.
OUT_BYTES = 8 << 20
FIRST_CAP = 1 << 10  # a part's room for states at first (doubled as it fills)


@dataclass(frozen=True)
class Kernels:
    """The phases that run the scenario's code (`parallel_kernel`'s, or
    `llvm_parallel`'s over the JIT's), and the `code` they are given: the
    bytecode, or the JIT's entry points."""

    expand_part: Callable[..., int]
    insert_part: Callable[..., int]
    replay_part: Callable[..., None]
    code: Words


def interpreted(prog: Program) -> Kernels:
    return Kernels(PK.expand_part, PK.insert_part, PK.replay_part, prog.code)


def jit_kernels(prog: Program) -> Kernels:
    """The JIT's kernels and `prog` compiled by LLVM (or loaded from its
    cache); llvmlite is imported only here."""
    from checker.vm import llvm_parallel as LP
    from checker.vm.llvm_jit import compile_program_code

    return Kernels(LP.expand_part, LP.insert_part, LP.replay_part,
                   compile_program_code(prog).addrs)


def parallel_bfs(workers: int, jit_after: int | None = None) -> Search:
    """The search on `workers` threads, as `check`'s `engine`: interpreted,
    then on the JIT's code from the first level that begins with
    `jit_after` states or more stored (0: from the start; None: never)."""
    assert workers >= 1

    def search(c: Compiled, budget: Budget, stats: Stats, out: Outcome,
               graph: StateGraph | None = None) -> Mapping[int, int]:
        if c.ts.warnings:
            # Python judges a level's escapes before it knows where the
            # single-threaded search would stop in it: a warning past that
            # point would be reported. Not worth the bookkeeping.
            raise NotSupported("WARN_ON() sites (with --workers)")
        if c.canon is not None:
            raise NotSupported("symmetry reduction (with --workers): the Python engine and the "
                               "breadth-first VM apply it")
        return _Search(c, budget, stats, out, graph, workers, jit_after).run()

    return search


def one_worker_because(c: Compiled, budget: Budget, prog: Program) -> str | None:
    """Why the default search must stay on one worker, if it must: the
    scenario needs what the workers lack (`WARN_ON()` sites, symmetry,
    --por, --checkpoint; see `parallel_bfs`), or a state may have more
    successors than a key can number."""
    opts = budget.opts
    if c.ts.warnings:
        return "WARN_ON() sites"
    if c.canon is not None:
        return "symmetry reduction"
    if c.ample is not None:
        return "partial-order reduction"
    if opts.checkpoint is not None:
        return "--checkpoint"
    return PK.keys_too_narrow(prog)


def parallel_resume(c: Compiled, budget: Budget, stats: Stats, out: Outcome,
                    graph: StateGraph | None, level: Level, prog: Program, workers: int,
                    jit_after: int | None) -> Mapping[int, int]:
    """Go on on `workers` threads with a breadth-first search that
    `checker.explore.bfs` began (the default search's hand-over, as
    `search.vm_resume` for one worker): its states, parents and recorded
    steps move into the parts, and the level it was about to expand is
    expanded next. The levels before it count as one level of the parts
    (its ranks: the discovery numbers), which numbers every state as the
    single-threaded search does."""
    search = _Search(c, budget, stats, out, graph, workers, jit_after, prog)
    budget.unwatch()  # the Python tables are emptied below
    search.adopt(level)
    return search.go()


def part_full(nparts: int) -> str:
    """The limit a search meets when a part is full (`PK.part_states`)."""
    return (f"the compiled engine's limit of {PK.part_states(nparts):,} states in one of "
            f"its {nparts} parts")


class _Part:
    """One part's arrays (grown by doubling) and scalars (`sc`, the P_* indices).
    Its rows are dense (`store` and `table`) or, in `form` "tree" or past
    its share of `TREE_AT_BYTES` in "auto", in a tree store (`tree`), as
    `store.Store` keeps the single-threaded search's. With `window`, the
    ranks, flags and successor counts (`WINDOW`) are kept only from the
    frontier on (from P_WBASE: `slide`), since only the frontier and the
    new level read them, unless the single-threaded numbering of every
    state is read at the end (`one_store`: the livelock pass's graph, the
    interrupt handlers' check)."""

    PER_STATE = ("parent", "key", "flags", "nsucc")  # one entry a stored state, either form
    WINDOW = ("key", "flags", "nsucc")  # with `window`: from P_WBASE on

    def __init__(self, prog: Program, me: int, nparts: int, record: bool, form: str = "dense",
                 window: bool = False):
        nw = prog.layout.nwords
        cap = FIRST_CAP
        self.me = me
        self.m = Machine(prog)
        self.nparts = nparts
        self.form = form
        self.window = window
        self.store = growable.zeros((cap, nw), np.int64)  # the rows, dense
        self.tree: TreeStore | None = None  # the rows, in tree form
        self._no_tree = TreeStore(1)  # typed placeholders for the kernels in dense form
        self.cur = np.zeros(nw, dtype=np.int64)  # a row decoded from the tree
        self.parent = growable.zeros((cap,), np.int32)  # the parent's global id (-1: none)
        self.key = growable.zeros((cap,), np.int32)  # the state's rank in its level, once ranked
        self.flags = growable.zeros((cap,), np.uint8)
        self.nsucc = growable.zeros((cap,), np.uint16)  # below 2^KEY_BITS
        self.lkey = growable.zeros((cap,), np.int64)  # the newest level's keys, until ranked
        self.table = np.zeros(2 * cap, dtype=np.int64)
        self.edges = growable.zeros((cap if record else 1, 2), np.int32)
        self.inv = np.zeros(64, dtype=np.int64)
        self.ev = np.zeros((1, 2), dtype=np.int64)
        # A round's successors, per owner: OUT_BYTES for all owners together
        # (a part's outboxes), room for 4 states' successors at least.
        room = max(4 * len(self.m.out), OUT_BYTES // (8 * (nw + 2) * nparts))
        self.out_rows = np.zeros((nparts, room, nw), dtype=np.int64)
        self.out_key = np.zeros((nparts, room), dtype=np.int64)
        self.out_par = np.zeros((nparts, room), dtype=np.int64)
        self.out_n = np.zeros(nparts, dtype=np.int64)
        self.fired = np.zeros(max(int(prog.meta[META_NACTIONS]), 1), dtype=np.uint8)
        self.covered = np.zeros(len(self.m.pend), dtype=np.uint8)
        self.sc = np.zeros(PK.P_SIZE, dtype=np.int64)
        self.sc[PK.P_INV] = prog.meta[META_INV]
        self.sc[PK.P_FIN] = prog.meta[META_FIN]
        self.sc[PK.P_RECORD] = record
        if self._wants_tree(0):  # --store tree
            self._to_tree(self.store[:0])
        self.set_grow_at()
        self.levels: list[int] = [0]  # where each level's states begin in the store
        self.sorted = np.zeros(0, dtype=np.int64)  # the new level's keys, sorted
        self.order = np.zeros(0, dtype=np.int64)  # and the order that sorts them

    @property
    def n(self) -> int:
        return int(self.sc[PK.P_N])

    @property
    def full(self) -> bool:
        """Whether the part holds `part_states`: the search must stop."""
        return self.n >= PK.part_states(self.nparts)

    # ------------------------------------------------------------ rows

    def row(self, i: int) -> Words:
        """State i's words (a copy in tree form)."""
        return self.store[i] if self.tree is None else self.tree.get(i)

    def rows(self, n: int) -> Words:
        """States 0..n-1 as a dense array (a view if dense; the tree's decoded)."""
        return self.store[:n] if self.tree is None else decoded(self.tree, n)

    def rows_at(self, indices: Words) -> Words:
        """The rows of states `indices`, as a new array."""
        if self.tree is None:
            return self.store[indices]
        out = np.zeros((len(indices), self.cur.shape[0]), dtype=np.int64)
        for k, i in enumerate(indices.tolist()):
            out[k] = self.tree.get(i)
        return out

    def tree_args(self) -> tuple[np.ndarray, ...]:
        """The tree's arrays as the kernels take them (placeholders if
        dense); taken afresh after every `grow`, which may replace them."""
        return (self.tree or self._no_tree).kernel_args()

    def fill(self, rows: Words) -> None:
        """The part's first states, `rows` in index order (their parents,
        keys and flags are the caller's to set, after `reserve`)."""
        m = len(rows)
        self.reserve(m)
        if self._wants_tree(max(m - 1, 0)):
            self._to_tree(rows)
        else:
            dense_of(self, rows)
        self.sc[PK.P_N] = m
        self.set_grow_at()

    def _wants_tree(self, n: int) -> bool:
        """Whether state n goes to the tree: this part's share of the
        single-threaded search's switch (`store.wants_tree`)."""
        return wants_tree(self.form, self.cur.shape[0], n, TREE_AT_BYTES // self.nparts)

    def _to_tree(self, rows: Words) -> None:
        """The rows, in order, into a tree store (their indices stay); the
        dense arrays go."""
        self.tree = tree_of(rows)
        self.sc[PK.P_TREE_LEAF], self.sc[PK.P_TREE_NODE] = tree_entries(self.tree)
        self.sc[PK.P_TREE] = 1
        self.store = np.zeros((1, self.cur.shape[0]), dtype=np.int64)
        self.table = np.zeros(2, dtype=np.int64)

    # ------------------------------------------------------------ growth

    def set_grow_at(self) -> None:
        at = min(len(self.parent), PK.part_states(self.nparts))
        if self.tree is None:
            at = min(at, len(self.store), table_room(len(self.table)))
        self.sc[PK.P_GROW_AT] = at

    def growth_bytes(self) -> int:
        """What the next `grow` adds to the memory (the arrays double in
        place: their new halves); when it moves to the tree, an estimate,
        as `Store.growth_bytes`'s: the dense rows' bytes."""
        n = self.n
        extra = 0
        if n >= len(self.parent):
            extra += sum(getattr(self, a).nbytes for a in self._growing())
        if self.window and n - self.wb >= len(self.nsucc):
            extra += sum(getattr(self, a).nbytes for a in self.WINDOW)
        extra += rows_growth_bytes(self.tree, self.store, self.table, n,
                                   self.tree is None and self._wants_tree(n))
        if n - self.sc[PK.P_NEWLO] >= len(self.lkey):
            extra += self.lkey.nbytes
        if self.sc[PK.P_RECORD] and self.sc[PK.P_EDGES] >= len(self.edges):
            extra += self.edges.nbytes
        return extra

    def grow(self) -> None:
        n = self.n
        if n >= len(self.parent):
            self._double_states()
        if self.window and n - self.wb >= len(self.nsucc):
            self._double_window()
        if self.tree is None and self._wants_tree(n):
            self._to_tree(self.store[:n])
        if self.tree is not None:
            self.tree.reserve(1)  # doubles each table without room for one more state
        else:
            dense_room(self, n)
        if n - self.sc[PK.P_NEWLO] >= len(self.lkey):
            growable.double(self, "lkey")
        if self.sc[PK.P_RECORD] and self.sc[PK.P_EDGES] >= len(self.edges):
            growable.double(self, "edges")
        if self.sc[PK.P_NINV] >= len(self.inv):
            growable.double(self, "inv")
        self.set_grow_at()

    def _growing(self) -> tuple[str, ...]:
        """The arrays of an entry a state (the window's grow apart)."""
        return ("parent",) if self.window else self.PER_STATE

    def _double_states(self) -> None:
        for a in self._growing():
            growable.double(self, a)

    def _double_window(self) -> None:
        for a in self.WINDOW:
            growable.double(self, a)

    def reserve(self, n: int) -> None:
        """Room for `n` states' parents, keys, flags and counts (`fill`
        stores their rows)."""
        while n > len(self.parent):
            self._double_states()
        while self.window and n - self.wb > len(self.nsucc):
            self._double_window()

    @property
    def wb(self) -> int:
        """The first state the window holds (0 without `window`)."""
        return int(self.sc[PK.P_WBASE])

    def slide(self, first: int) -> None:
        """With `window`: keep the ranks, flags and counts from state
        `first` (the new frontier's first) on, moved to the front."""
        if not self.window:
            return
        wb, n = self.wb, self.n
        assert wb <= first <= n, (wb, first, n)
        for a in self.WINDOW:
            arr = getattr(self, a)
            arr[: n - first] = arr[first - wb: n - wb]  # numpy copies overlaps safely
        self.sc[PK.P_WBASE] = first

    # ------------------------------------------------------------ the kernels

    def start_level(self) -> None:
        """The newest level becomes the frontier: its expansion's counters
        reset, room for its events, the window slid to its first state."""
        first = self.levels[-1]
        self.slide(first)
        self.sc[PK.P_POS] = first
        self.sc[PK.P_HI] = self.n
        self.sc[PK.P_NEV] = 0
        self.sc[PK.P_TRANS] = 0
        self.sc[PK.P_BUDGET] = CHECK_EVERY
        self.ev = np.zeros((max(self.n - first, 1), 2), dtype=np.int64)

    def expand(self, k: Kernels, g: Program) -> int:
        """`expand_part` on this part's arrays, on from P_POS."""
        m = self.m
        return k.expand_part(k.code, g.slots, g.pcs, g.pcact, g.acts, g.aux, self.store,
                             self.tree_args(), self.cur, self.key, self.flags, self.nsucc,
                             self.sc, m.out, m.out_act, m.faults, m.bufs, m.regs, m.pend,
                             self.fired, self.covered, self.out_rows, self.out_key,
                             self.out_par, self.out_n, self.ev, self.me)

    def insert(self, k: Kernels, g: Program, rows: Words, keys: Words, pars: Words) -> int:
        """`insert_part` of an inbox on this part's arrays, on from P_IPOS."""
        m = self.m
        return k.insert_part(k.code, g.slots, g.aux, self.store, self.tree_args(), self.parent,
                             self.lkey, self.flags, self.nsucc, self.table, self.sc, rows, keys,
                             pars, len(keys), m.bufs, m.regs, m.pend, self.covered, self.inv,
                             self.edges)

    def replay(self, k: Kernels, g: Program, last: int) -> None:
        """`replay_part` of the expanded level up to rank `last`."""
        m = self.m
        k.replay_part(k.code, g.slots, g.pcs, g.pcact, g.acts, g.aux, self.store,
                      self.tree_args(), self.cur, self.key, self.flags, self.levels[-2],
                      self.levels[-1], last, self.sc, m.out, m.out_act, m.faults, m.bufs,
                      m.regs, m.pend, self.fired, self.covered)

    def keep_rows_only(self) -> None:
        """Drop what only a search needs (the table, keys, counts, flags,
        outboxes, events, steps): a finished search's result keeps the rows
        and parents (`_Numbered`)."""
        self.table = np.zeros(2, dtype=np.int64)
        self.ev = np.zeros((0, 2), dtype=np.int64)
        for a in ("key", "nsucc", "flags", "lkey", "inv", "sorted", "order"):
            setattr(self, a, np.zeros(0, dtype=getattr(self, a).dtype))
        self.out_rows = np.zeros((self.nparts, 0, self.cur.shape[0]), dtype=np.int64)
        self.out_key = self.out_par = np.zeros((self.nparts, 0), dtype=np.int64)
        self.edges = np.zeros((0, 2), dtype=np.int32)
        if self.tree is not None:  # only a put reads the hash indexes
            self.tree.slots = [np.zeros(2, dtype=np.int32) for _ in self.tree.slots]

    def nbytes(self) -> int:
        """The memory this part's arrays hold."""
        arrays = (self.store, self.parent, self.key, self.flags, self.nsucc, self.lkey,
                  self.table, self.edges, self.inv, self.ev, self.out_rows, self.out_key,
                  self.out_par)
        return sum(a.nbytes for a in arrays) + (self.tree.nbytes() if self.tree else 0)

    def out_growth_bytes(self) -> int:
        return self.out_rows.nbytes + self.out_key.nbytes + self.out_par.nbytes

    def grow_out(self) -> None:
        self.out_rows = _doubled_axis1(self.out_rows)
        self.out_key = _doubled_axis1(self.out_key)
        self.out_par = _doubled_axis1(self.out_par)

    def route(self, row: Words, key: int, gid: int) -> None:
        """One successor to its owner's inbox, from Python."""
        d = PK.owner_of_row(row, len(self.out_n))
        if self.out_n[d] >= self.out_key.shape[1]:
            self.grow_out()
        p = int(self.out_n[d])
        self.out_rows[d, p] = row
        self.out_key[d, p] = key
        self.out_par[d, p] = gid
        self.out_n[d] = p + 1


def _doubled_axis1(a: np.ndarray) -> np.ndarray:
    out = np.zeros((a.shape[0], 2 * a.shape[1], *a.shape[2:]), dtype=a.dtype)
    out[:, : a.shape[1]] = a
    return out


# The part of a search, public for the Ray actors of `checker.vm.ray_search`.
Part = _Part


class _Search:
    def __init__(self, c: Compiled, budget: Budget, stats: Stats, out: Outcome,
                 graph: StateGraph | None, workers: int, jit_after: int | None = None,
                 prog: Program | None = None):
        self.c, self.budget, self.stats, self.out, self.graph = c, budget, stats, out, graph
        self.prog = prog or compile_program(c.ts, c.packing)
        self.kernels = interpreted(self.prog)
        self.jit_after = jit_after
        if (why := PK.keys_too_narrow(self.prog)) is not None:
            raise NotSupported(why)
        # Only the livelock pass (its graph) and the interrupt handlers'
        # check read the parent map, numbered in the single-threaded order
        # from every state's rank: otherwise the parts keep ranks only from
        # the frontier on (`_Part`'s window).
        self.window = graph is None and not c.ts.has_handlers
        self.parts = [_Part(self.prog, w, workers, graph is not None, budget.opts.store,
                            self.window) for w in range(workers)]
        self.halt = threading.Event()
        self.lock = threading.Lock()
        self.limit: str | None = None
        self.states = 1  # stored in the levels before the new one
        self.transitions = 0  # of the expanded levels
        self.depth = 0
        self.level_sizes = [1]
        self.ranked = True  # the newest level's states are ranked
        # The executed actions and covers before the level (`replay`), and
        # the states of the level that the Python engine expanded.
        self.marks: tuple[np.ndarray, np.ndarray, bytes, set[int]] | None = None
        self.python_expanded: list[tuple[int, int]] = []  # (rank, state)

    # ------------------------------------------------------------ states and paths

    def state(self, p: _Part, i: int) -> int:
        return self.prog.layout.int_of(p.row(i))

    def path(self, p: _Part, i: int) -> Callable[[], list[int]]:
        def build() -> list[int]:
            chain = [self.state(p, i)]
            gid = int(p.parent[i])
            while gid >= 0:
                w, j = PK.gid_split(gid, len(self.parts))
                q = self.parts[w]
                chain.append(self.state(q, j))
                gid = int(q.parent[j])
            chain.reverse()
            return chain
        return build

    # ------------------------------------------------------------ the phases (threads)

    def _halted(self) -> bool:
        if self.halt.is_set():
            return True
        d = self.budget.deadline
        if d is not None and time.monotonic() >= d:
            self.halt.set()
            return True
        return False

    def _stop(self, limit: str) -> None:
        with self.lock:
            self.limit = self.limit or limit
            self.halt.set()

    def _may_allocate(self, extra: int) -> bool:
        with self.lock:
            limit = self.budget.over_memory(extra)
            if limit is not None:
                self.limit = self.limit or limit
                self.halt.set()
            return limit is None

    def _expand(self, p: _Part) -> None:
        while True:
            r = p.expand(self.kernels, self.prog)
            if r == PK.DONE:
                return
            if r == PK.LIMITS:
                if self._halted():
                    return
                p.sc[PK.P_BUDGET] = CHECK_EVERY
            elif r == PK.OUTFULL:
                return  # the round's outboxes are full: stored, then on from P_POS
            else:
                raise AssertionError(f"expand_part returned {r}")

    def _insert(self, p: _Part) -> None:
        for src in self.parts:
            p.sc[PK.P_IPOS] = 0
            count = int(src.out_n[p.me])
            while True:
                r = p.insert(self.kernels, self.prog, src.out_rows[p.me, :count],
                             src.out_key[p.me, :count], src.out_par[p.me, :count])
                if r == PK.DONE:
                    break
                assert r == PK.GROW, r
                if p.full:
                    self._stop(part_full(len(self.parts)))
                if self.halt.is_set() or not self._may_allocate(p.growth_bytes()):
                    return
                try:
                    p.grow()
                except OverflowError as e:  # a tree table holds 2^31 entries
                    self._stop(str(e))
                    return

    def _insert_last(self, p: _Part) -> None:
        """The level's last round: then its keys sorted, for the ranks."""
        self._insert(p)
        if not self.halt.is_set():
            p.sorted, p.order = PK.sort_keys(p.lkey, p.n - p.levels[-1])

    def _phase(self, pool: ThreadPoolExecutor, task: Callable[[_Part], None]) -> bool:
        """Run `task` on every part at once; False if a limit stopped it."""
        if len(self.parts) == 1:
            task(self.parts[0])
        else:
            futures = [pool.submit(task, p) for p in self.parts]
            # Short waits: a Ctrl-C, which the command line passes on to this
            # thread as an asynchronous exception, lands between two of them
            # (then `run` halts the workers).
            while wait(futures, timeout=_WAIT_S).not_done:
                pass
            for f in futures:
                f.result()
        return not self.halt.is_set()

    # ------------------------------------------------------------ the search

    def sync(self, states: int, transitions: int, depth: int) -> None:
        s = self.stats
        s.states, s.transitions, s.depth = states, transitions, depth

    def run(self) -> Mapping[int, int]:
        c, out = self.c, self.out
        init = self.prog.layout.words_of(c.initial)
        p0 = self.parts[PK.owner_of_row(init, len(self.parts))]
        p0.fill(init.reshape(1, -1))
        p0.parent[0] = -1
        for p in self.parts:
            p.levels[0] = 0
        self.stats.states = 1
        if c.invariant is not None:
            v = check_invariant(c, c.initial, self.path(p0, 0))
            if out.offer(v):
                return self.finish(1)
            if v is not None:
                p0.flags[0] = 1
        return self.go()

    def adopt(self, level: Level) -> None:
        """The states, parents and steps of the Python search's `level`
        (see `parallel_resume`), each in its owner's part."""
        states = list(level.parent)
        n, start = len(states), level.start
        # Every part's ids within int32 (`gid_of`): the hand-over comes at
        # tens of thousands of states, far below `part_states`.
        assert n < PK.part_states(len(self.parts)), n
        index = {s: i for i, s in enumerate(states)}
        parent = np.array([index[level.parent[s]] for s in states], dtype=np.int64)
        frontier = {index[s] for s in level.frontier}
        del index
        level.parent.clear()
        rows = words_of_packed(self.prog, states)
        del states
        nparts = len(self.parts)
        owner = PK.owners_of_rows(rows, nparts)
        local = np.zeros(n, dtype=np.int64)
        mine = [np.flatnonzero(owner == q) for q in range(nparts)]
        for ids in mine:
            local[ids] = np.arange(len(ids))
        gid = local * nparts + owner  # PK.gid_of
        flagged = np.ones(n, dtype=np.uint8)
        flagged[list(frontier)] = 0
        flagged[:start] = 0
        for p, ids in zip(self.parts, mine, strict=True):
            m = len(ids)
            p.fill(rows[ids])
            p.parent[:m] = np.where(ids == 0, -1, gid[parent[ids]])
            p.key[:m] = np.where(ids < start, ids, ids - start)  # ranks in their level
            p.flags[:m] = flagged[ids]
            p.levels = [0, int(np.searchsorted(ids, start))]
        if self.graph is not None:
            src = np.frombuffer(self.graph.rows, dtype=np.int64)
            dst = np.frombuffer(self.graph.cols, dtype=np.int64)
            for p in self.parts:
                to_p = owner[dst] == p.me
                e = int(to_p.sum())
                while len(p.edges) < e + 1:
                    growable.double(p, "edges")
                p.edges[:e, 0] = gid[src[to_p]]
                p.edges[:e, 1] = local[dst[to_p]]
                p.sc[PK.P_EDGES] = e
            del src, dst
            self.graph.index.clear()
            del self.graph.rows[:], self.graph.cols[:]
        self.states = n
        self.transitions = level.transitions
        self.depth = level.depth
        self.level_sizes = [start, n - start]
        self.stats.states = n

    def go(self) -> Mapping[int, int]:
        """The levels from the newest stored one, on the workers' threads."""
        with ThreadPoolExecutor(max_workers=len(self.parts),
                                thread_name_prefix="migcheck-vm") as pool:
            try:
                n = self.levels(pool)
            finally:
                self.halt.set()
        return self.finish(n)

    def levels(self, pool: ThreadPoolExecutor) -> int:
        """Search level after level; the number of states the result keeps
        (in the single-threaded search's order)."""
        out, budget, stats = self.out, self.budget, self.stats
        while True:
            if self.jit_after is not None and self.states >= self.jit_after:
                self.to_jit()
            self.sync(self.states, self.transitions, self.depth)
            stats.queue = self.level_sizes[-1]
            out.limit = budget.exceeded(stats)
            if out.limit:
                return self.states
            self.marks = (np.bitwise_or.reduce([p.fired for p in self.parts]),
                          np.bitwise_or.reduce([p.covered for p in self.parts]),
                          bytes(self.c.fired), set(self.c.runtime.covered))
            for p in self.parts:
                p.start_level()
                p.levels.append(p.n)  # the new level's states begin here
                p.sc[PK.P_NEWLO] = p.n
                p.sc[PK.P_NINV] = 0
            self.ranked = False
            # Rounds: expand until an outbox is full, store every inbox.
            while True:
                if not self._phase(pool, self._expand):
                    return self.cut_short()
                last = all(p.sc[PK.P_POS] >= p.sc[PK.P_HI] for p in self.parts)
                if last:
                    cands, trans = self.judge_expansions()
                if not self._phase(pool, self._insert_last if last else self._insert):
                    return self.cut_short()
                for p in self.parts:
                    p.out_n[:] = 0
                if last:
                    break
            stats.workers = [(p.n, p.nbytes() / (1024 * 1024)) for p in self.parts]
            stats.workers_memory = "store"
            for p in self.parts:
                cands.extend(
                    Candidate(int(p.lkey[i - p.levels[-1]]), self._invariant(p, i), (p, i))
                    for i in p.inv[: p.sc[PK.P_NINV]].tolist())
            new = sum(p.n - p.levels[-1] for p in self.parts)
            offs = np.zeros(len(self.parts) + 1, dtype=np.int64)
            offs[1:] = np.cumsum([len(p.sorted) for p in self.parts])
            keys = np.concatenate([p.sorted for p in self.parts])
            for p in self.parts:  # read by nothing after: held no longer
                p.sorted = np.zeros(0, dtype=np.int64)
            stop = self.walk(cands, keys)
            self.rank(pool, keys, offs)
            if stop is not None:
                return stop
            flagged = sum(int(p.flags[p.levels[-1] - p.wb: p.n - p.wb].sum())
                          for p in self.parts)
            self.states += new
            self.transitions += trans
            self.level_sizes.append(new)
            if new - flagged == 0:
                self.sync(self.states, self.transitions, self.depth)
                return self.states
            self.depth += 1

    def to_jit(self) -> None:
        """Go on with the JIT's kernels, which share every array. An
        optimisation: a JIT that cannot be built (an LLVM failure) leaves
        the search in the interpreter."""
        self.jit_after = None
        try:
            self.kernels = jit_kernels(self.prog)
        except Exception:
            return

    def cut_short(self) -> int:
        """A limit passed within a level: the figures so far."""
        self.sync(sum(p.n for p in self.parts), self.transitions
                  + sum(int(p.sc[PK.P_TRANS]) for p in self.parts), self.depth)
        self.out.limit = self.limit or self.budget.exceeded(self.stats) \
            or f"--max-seconds {self.budget.opts.seconds_limit:g}"
        return self.states

    def judge_expansions(self) -> tuple[list[Candidate[tuple[_Part, int]]], int]:
        """The states `expand_part` left to Python (`levels.judge_events`;
        the successors of those the Python engine expands are routed from
        their parent's part). The violations are candidates; also returns
        the level's transitions."""
        trans = sum(int(p.sc[PK.P_TRANS]) for p in self.parts)
        events = [(int(p.key[i - p.wb]), kind, p, i, self.state(p, i))
                  for p in self.parts for i, kind in p.ev[: p.sc[PK.P_NEV]].tolist()]

        def route(p: _Part, i: int, key: int, succ: list[int]) -> None:
            gid = PK.gid_of(p.me, i, len(self.parts))
            for j, t in enumerate(succ):
                p.route(self.prog.layout.words_of(t), key + j + 1, gid)
            p.nsucc[i - p.wb] = len(succ)

        cands: list[Candidate[tuple[_Part, int]]]
        cands, self.python_expanded, more = judge_events(self.c, events, self.path, route)
        return cands, trans + more

    def _invariant(self, p: _Part, i: int) -> Callable[[], Violation | None]:
        return invariant_judge(self.c, lambda: self.state(p, i), self.path(p, i))

    def walk(self, cands: list[Candidate[tuple[_Part, int]]], keys: np.ndarray) -> int | None:
        """`levels.walk` over the level's candidates; if the search ends
        here, the figures of the single-threaded search at that point, and
        the number of states it stored."""

        def flag(at: tuple[_Part, int]) -> None:
            p, i = at
            p.flags[i - p.wb] = 1

        stop = walk(cands, cap_key(keys, self.budget.state_cap - self.states),
                    self.out.offer, flag)
        if stop is None:
            return None
        n = self.stop_at(stop)
        if stop.capped:
            self.out.limit = self.budget.over_states()
        return n

    def stop_at(self, stop: Stop) -> int:
        """The figures of the single-threaded search when it stops at `stop`."""
        states = self.states + int(stop.new_state)
        trans = self.transitions
        for p in self.parts:
            lo, mid, hi = p.levels[-2] - p.wb, p.levels[-1] - p.wb, p.n - p.wb
            states += states_before(p.lkey[: hi - mid], stop.key)
            trans += successors_before(p.key[lo:mid], p.nsucc[lo:mid], stop.rank, stop.pos)
        self.sync(states, trans, self.depth + int(stop.new_state))
        self.replay(stop.rank)
        return states

    def replay(self, last: int) -> None:
        """The executed actions and covers as the single-threaded search
        had them when it stopped at rank `last` of the level: those before
        the level, and those of expanding its states up to that rank."""
        assert self.marks is not None
        fired, covered, c_fired, c_covered = self.marks
        restore_marks(self.c, c_fired, c_covered)
        for p in self.parts:
            p.fired[:] = 0
            p.covered[:] = 0
            p.replay(self.kernels, self.prog, last)
        self.parts[0].fired |= fired
        self.parts[0].covered |= covered
        replay_python(self.c, self.python_expanded, last)

    def rank(self, pool: ThreadPoolExecutor, keys: np.ndarray, offs: np.ndarray) -> None:
        """Every new state's rank in the level: `keys`, each part's sorted
        keys in turn, part v's from `offs[v]`."""

        def task(p: _Part) -> None:
            PK.rank_part(p.key, p.levels[-1] - p.wb, p.order, keys, offs, p.me)
            # Read by nothing after: not held through the next level, whose
            # largest moment is the search's peak of memory.
            p.order = np.zeros(0, dtype=np.int64)

        self._phase(pool, task)
        self.ranked = True

    # ------------------------------------------------------------ the result

    def finish(self, n: int) -> Mapping[int, int]:
        """The executed actions and covers to `c`, the steps to the graph,
        and the parent map of the first `n` states in the single-threaded
        search's order: all through `search`'s finish, from one store
        numbered in that order, built in the threads. Without a graph, the
        parent map is built only if read (the livelock pass, its only
        reader, needs the graph)."""
        fired = np.bitwise_or.reduce([p.fired for p in self.parts])
        covered = np.bitwise_or.reduce([p.covered for p in self.parts])
        if self.graph is None:
            finish(self.c, self.prog, Store(self.prog.layout.nwords, False, "dense"),
                   np.zeros(K.SC_SIZE, np.int64), fired, covered, None)
            if self.window:
                return _Unkept()
            return _Lazy(lambda: self.one_store(n, fired, covered))
        return self.one_store(n, fired, covered)

    def one_store(self, n: int, fired: np.ndarray, covered: np.ndarray) -> Mapping[int, int]:
        assert not self.window, "the ranks of old levels were not kept"
        parts = self.parts
        base = np.zeros(len(self.level_sizes) + 1, dtype=np.int64)
        base[1:] = np.cumsum(self.level_sizes)
        if self.ranked and len(parts[0].levels) > len(self.level_sizes):
            base = np.append(base, base[-1] + sum(p.n - p.levels[-1] for p in parts))
        dense: list[np.ndarray] = []
        for p in parts:
            starts = [*p.levels, p.n]
            levels = min(len(starts) - 1, len(base) - 1)
            d = np.empty(starts[levels], dtype=np.int64)
            PK.dense_ids(p.key, np.array(starts[: levels + 1], dtype=np.int64), base, d)
            dense.append(d)
        offs = np.zeros(len(parts) + 1, dtype=np.int64)
        offs[1:] = np.cumsum([len(d) for d in dense])
        flat = np.concatenate(dense)
        record = self.graph is not None
        st = _Numbered(parts, np.empty(n, dtype=np.int32), np.empty(n, dtype=np.int32))
        counts = [int(p.sc[PK.P_EDGES]) if record else 0 for p in parts]
        eoffs = np.zeros(len(parts) + 1, dtype=np.int64)
        eoffs[1:] = np.cumsum(counts)
        steps = np.empty((int(eoffs[-1]), 2), dtype=np.int32)  # as `Store`: below 2^31 states

        def task(p: _Part) -> None:
            d = dense[p.me]
            PK.gather_part(p.parent, d, flat, offs, n, p.me, st.parent, st.who)
            if record:
                PK.map_steps(p.edges, counts[p.me], d, flat, offs, n,
                             steps[eoffs[p.me]: eoffs[p.me + 1]])
            p.keep_rows_only()

        with ThreadPoolExecutor(max_workers=len(parts)) as pool:
            self._phase(pool, task)
        sc = np.zeros(K.SC_SIZE, dtype=np.int64)
        sc[K.SC_N] = n
        if record:
            if len(steps) and steps[:, 0].min() < 0:  # a search cut short
                steps = steps[steps[:, 0] >= 0]
            st.edges = steps
            sc[K.SC_EDGES] = len(steps)
        return finish(self.c, self.prog, st, sc, fired, covered, self.graph)


class _Numbered:
    """The parts' states as one store numbered in the single-threaded
    search's order (`search.Visited`), for `search.finish`: state d is
    global id `who[d]`, read in its part; the rows are gathered into one
    array only if all are asked for (the livelock pass's index of states,
    rarely built), so a finished search copies no row."""

    def __init__(self, parts: list[_Part], who: np.ndarray, parent: np.ndarray):
        self.parts = parts
        self.who = who
        self.parent = parent
        self.edges = np.zeros((0, 2), dtype=np.int32)

    def row(self, i: int) -> Words:
        q, j = PK.gid_split(int(self.who[i]), len(self.parts))
        return self.parts[q].row(j)

    def rows(self, n: int) -> Words:
        out = np.empty((n, self.parts[0].cur.shape[0]), dtype=np.int64)
        who = self.who[:n]

        def task(p: _Part) -> None:
            PK.gather_rows(p.store, p.tree_args(), p.cur, p.sc, who, p.me, len(self.parts), out)

        with ThreadPoolExecutor(max_workers=len(self.parts)) as pool:
            for f in [pool.submit(task, p) for p in self.parts]:
                f.result()
        return out


class _Lazy(Mapping[int, int]):
    """A mapping built when first read."""

    def __init__(self, build: Callable[[], Mapping[int, int]]):
        self._build: Callable[[], Mapping[int, int]] | None = build
        self._map: Mapping[int, int] = {}

    def _get(self) -> Mapping[int, int]:
        if self._build is not None:
            build, self._build = self._build, None  # once: a failed build is not run again
            self._map = build()
        return self._map

    def __getitem__(self, s: int) -> int:
        return self._get()[s]

    def __iter__(self) -> Iterator[int]:
        return iter(self._get())

    def __len__(self) -> int:
        return len(self._get())


class _Unkept(_Lazy):
    """The parent map of a search whose parts kept no ranks of old levels
    (`_Part`'s window), which `check` reads only with a graph or interrupt
    handlers, the cases that keep them: reading it is a bug, said loudly
    at every read."""

    def __init__(self) -> None:
        super().__init__(dict)

    def _get(self) -> Mapping[int, int]:
        raise AssertionError("the workers kept no parent map: the search ran with their "
                             "window (no livelock graph, no interrupt handlers)")
