"""The VM engine's breadth-first search, with `checker.explore.bfs`'s
contract (`checker.explore.run.check` takes it as its `engine`).

The numba kernel does the common work; every event it returns is handled
here with the Python engine's own functions on the packed int of the state
(`checker.explore.common`): faults and escapes (`expand_safely` after the
generated `expand`), states with no successor (`terminal`), invariants
that do not plainly hold (`check_invariant`), and `Outcome.offer` for the
expected-violation policy. So messages, traces, vacuity and the livelock
and fewest-switches passes are those of the Python engine.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Protocol

import numpy as np

from checker.explore.bfs import Level
from checker.explore.codegen import Compiled
from checker.explore.common import (
    Outcome,
    StateGraph,
    check_invariant,
    expand_safely,
    offer_faults,
    terminal,
    warned_slowly,
)
from checker.explore.limits import Budget
from checker.explore.por import reducer
from checker.explore.result import Stats
from checker.ir.interp import Fault
from checker.vm import kernel as K
from checker.vm.layout import Words
from checker.vm.machine import Machine
from checker.vm.program import (
    META_FIN,
    META_INV,
    META_NACTIONS,
    Program,
    compile_program,
    silence,
)
from checker.vm.store import Store, cap_reason, state_cap
from checker.vm.symmetry import sym_table

CHECK_EVERY = 8192  # expansions between two returns for the limits and progress


class Visited(Protocol):
    """What `finish` reads of a finished search's states: a `store.Store`,
    or the workers' parts numbered as one (`parallel`)."""

    parent: np.ndarray  # by number: the parent's number
    edges: np.ndarray  # the recorded steps, as pairs of numbers

    def row(self, i: int) -> Words: ...

    def rows(self, n: int) -> Words: ...


class StoreParents(Mapping[int, int]):
    """The parent map of the search as `path_to` reads it (packed ints),
    built on demand from the store: only the livelock pass needs it."""

    def __init__(self, index: Callable[[], dict[int, int]], states: Callable[[int], int],
                 parent: np.ndarray, n: int):
        self._index = index
        self._state = states
        self._parent = parent
        self._n = n

    def __getitem__(self, s: int) -> int:
        return self._state(int(self._parent[self._index()[s]]))

    def __iter__(self) -> Iterator[int]:
        return iter(self._index())

    def __len__(self) -> int:
        return self._n


# Another kernel with `kernel.search`'s contract, and the `code` it runs in
# place of the bytecode, for a program (`llvm_search`: the JIT's).
KernelOf = Callable[[Program], tuple[Callable[..., int], Words]]


def vm_bfs(c: Compiled, budget: Budget, stats: Stats, out: Outcome,
           graph: StateGraph | None = None, kernel: KernelOf | None = None,
           store: Callable[[Program], Store] | None = None) -> Mapping[int, int]:
    """The whole search in the VM, from the initial state. `store`: another
    store for the program, with its kernel (`bitstate`'s partial stores)."""
    prog = compile_program(c.ts, c.packing)
    c.runtime.pending.clear()
    st = store(prog) if store is not None else Store(prog.layout.nwords, graph is not None,
                                                     _form(c, budget))
    sc = _scalars(prog, budget, graph, c)
    st.fill(prog.layout.words_of(c.initial).reshape(1, -1), [0], sc)
    sc[K.SC_N] = 1
    sc[K.SC_LEVEL_END] = 1
    st.grow(sc)
    stats.states = 1
    search = _Search(c, prog, st, sc, budget, stats, out, graph, kernel)
    if c.invariant is not None:
        v = check_invariant(c, c.initial, search.path(0))
        if out.offer(v):
            return search.finish()
        if v is not None:
            st.flags[0] = 1
    return search.run()


def vm_resume(c: Compiled, budget: Budget, stats: Stats, out: Outcome,
              graph: StateGraph | None, level: Level,
              prog: Program | None = None,
              then: tuple[int, KernelOf] | None = None) -> Mapping[int, int]:
    """Go on with a breadth-first search that `checker.explore.bfs` began:
    its states (in discovery order, which is the VM's store order), parents
    and recorded steps move into the VM's arrays, and the VM expands from
    the first state of the level the Python search was about to expand.
    `then`: (states, kernel) to swap to once the store holds that many
    states (the JIT tier); the kernels share every array and counter, so
    the swap happens at any return of the kernel."""
    prog = prog or compile_program(c.ts, c.packing)
    silence(prog, out.warnings)  # recorded by the Python search before the hand-over
    budget.unwatch()  # the Python tables are emptied below
    st = Store(prog.layout.nwords, graph is not None, _form(c, budget))
    sc = _scalars(prog, budget, graph, c)
    n = len(level.parent)
    states = list(level.parent)
    index = {s: i for i, s in enumerate(states)}
    st.fill(words_of_packed(prog, states), [index[level.parent[s]] for s in states], sc)
    expanded = set(level.frontier)
    st.flags[level.start:n] = [s not in expanded for s in states[level.start:]]
    if graph is not None:
        sc[K.SC_EDGES] = st.fill_edges(np.frombuffer(graph.rows, dtype=np.int64),
                                       np.frombuffer(graph.cols, dtype=np.int64))
        graph.index.clear()
        del graph.rows[:], graph.cols[:]
    del states, index, expanded
    level.parent.clear()
    sc[K.SC_N] = n
    sc[K.SC_HEAD] = level.start
    sc[K.SC_LEVEL_END] = n
    sc[K.SC_DEPTH] = level.depth
    sc[K.SC_TRANS] = level.transitions
    st.grow(sc)
    search = _Search(c, prog, st, sc, budget, stats, out, graph)
    search.then = then
    return search.run()


def vm_restore(c: Compiled, budget: Budget, stats: Stats, out: Outcome,
               graph: StateGraph | None, path: Path,
               then: tuple[int, KernelOf] | None = None) -> Mapping[int, int]:
    """Go on with the search saved at `path` (`--resume`): the store, the
    kernel's counters and what was executed, as they were at the
    checkpoint; CheckpointError if the file is not one of this search."""
    from checker.vm.checkpoint import CheckpointError, load

    ck = load(path, c, graph is not None, out)
    prog = compile_program(c.ts, c.packing)
    if ck.rows.shape[1] != prog.layout.nwords:
        raise CheckpointError(f"{path}: states of {ck.rows.shape[1]} words, "
                              f"{prog.layout.nwords} here")
    c.runtime.pending.clear()
    st = Store(prog.layout.nwords, graph is not None, _form(c, budget))
    sc = ck.sc.astype(np.int64).copy()
    sc[K.SC_TREE] = 0
    sc[K.SC_CAP] = state_cap(budget)
    n = int(sc[K.SC_N])
    st.fill(ck.rows.astype(np.int64), ck.parent.tolist(), sc)
    st.flags[:n] = ck.flags
    if graph is not None:
        sc[K.SC_EDGES] = st.fill_edges(ck.edges[:, 0], ck.edges[:, 1])
    st.grow(sc)
    search = _Search(c, prog, st, sc, budget, stats, out, graph)
    search.fired[:] = ck.fired
    search.covered[:] = ck.covered
    c.fired[:] = bytes(ck.py_fired)
    c.runtime.covered.update(int(k) for k in ck.py_covered)
    search.seconds_before = float(ck.meta.get("seconds", 0.0))
    stats.resumed_seconds = search.seconds_before
    search.then = then
    if then is not None and n >= then[0]:
        search._swap(then[1])
    return search.run()


def _form(c: Compiled, budget: Budget) -> str:
    """The store's form: dense under --por (its proviso looks states up in
    the dense table), else the one asked for."""
    return "dense" if c.ample is not None else budget.opts.store


def por_table(c: Compiled) -> Words:
    """Per action id: its thread's index and 1 if the thread may be
    expanded alone at the action's pc (`explore.por`), for the kernel."""
    out = np.zeros((max(len(c.ts.actions), 1), 2), dtype=np.int64)
    index = {t.id: i for i, t in enumerate(c.ts.threads)}
    ample = c.ample or {}
    for a in c.ts.actions:
        out[a.id, 0] = index[a.thread]
        out[a.id, 1] = a.src in ample.get(a.thread, frozenset())
    return out


def _scalars(prog: Program, budget: Budget, graph: StateGraph | None,
             c: Compiled | None = None) -> Words:
    sc = np.zeros(K.SC_SIZE, dtype=np.int64)
    sc[K.SC_POR] = c is not None and c.ample is not None
    sc[K.SC_CAP] = state_cap(budget)
    sc[K.SC_INV] = prog.meta[META_INV]
    sc[K.SC_FIN] = prog.meta[META_FIN]
    sc[K.SC_RECORD] = graph is not None
    sc[K.SC_K] = -1
    return sc


class _Search:
    """One run of the kernel, with the Python side of its events."""

    def __init__(self, c: Compiled, prog: Program, st: Store, sc: Words, budget: Budget,
                 stats: Stats, out: Outcome, graph: StateGraph | None,
                 kernel: KernelOf | None = None):
        self.c, self.prog, self.st, self.sc = c, prog, st, sc
        self.kernel: Callable[..., int] = K.search
        self.code: Words = prog.code
        if kernel is not None:
            self.kernel, self.code = kernel(prog)
        self.budget, self.stats, self.out, self.graph = budget, stats, out, graph
        self.then: tuple[int, KernelOf] | None = None
        self.m = Machine(prog)
        self.fired = np.zeros(max(int(prog.meta[META_NACTIONS]), 1), dtype=np.uint8)
        self.covered = np.zeros(len(self.m.pend), dtype=np.uint8)
        self.por = por_table(c)
        self.sym = sym_table(c, prog.layout)
        self.saved_at = time.monotonic()  # the last checkpoint (or the start)
        self.seconds_before = 0.0  # searched before a resumed checkpoint

    def state(self, i: int) -> int:
        return self.prog.layout.int_of(self.st.row(i))

    def path(self, i: int) -> Callable[[], list[int]]:
        def build() -> list[int]:
            chain = [i]
            while chain[-1] != 0:
                chain.append(int(self.st.parent[chain[-1]]))
            return [self.state(j) for j in reversed(chain)]
        return build

    def sync(self, extra_depth: int = 0) -> None:
        sc, stats = self.sc, self.stats
        stats.states = int(sc[K.SC_N])
        stats.transitions = int(sc[K.SC_TRANS])
        stats.depth = int(sc[K.SC_DEPTH]) + extra_depth
        stats.queue = int(sc[K.SC_N] - sc[K.SC_HEAD])
        stats.store_bytes = self.st.nbytes()

    def run(self) -> Mapping[int, int]:
        c, p, st, sc, m, out, budget = (self.c, self.prog, self.st, self.sc, self.m, self.out,
                                        self.budget)
        while True:
            ev = self.kernel(self.code, p.slots, p.pcs, p.pcact, p.acts, p.aux, st.store,
                             st.parent, st.flags, st.table, sc, m.out, m.out_act, m.faults,
                             m.bufs, m.regs, m.pend, self.fired, self.covered, st.edges,
                             st.tree_args(), st.cur, self.por, self.sym)
            if ev == K.DONE:
                self.sync()
                break
            if ev == K.LIMITS:
                self.sync()
                out.limit = budget.exceeded(self.stats)
                if out.limit:
                    break
                sc[K.SC_BUDGET] = CHECK_EVERY
                self._checkpoint()
                if self.then is not None and sc[K.SC_N] >= self.then[0]:
                    self._swap(self.then[1])
            elif ev == K.GROW:
                out.limit = budget.over_memory(st.growth_bytes(sc))
                if out.limit:
                    self.sync()
                    break
                try:
                    st.grow(sc)
                except OverflowError as e:  # a tree table holds 2^31 entries
                    out.limit = str(e)
                    self.sync()
                    break
            elif ev == K.CAP:
                self.sync()
                out.limit = cap_reason(budget)
                break
            elif ev == K.INVARIANT:
                i = int(sc[K.SC_EVENT])
                v = check_invariant(c, self.state(i), self.path(i))
                if v is None:
                    sc[K.SC_NEXT] += 1
                elif out.offer(v):
                    self.sync(1)
                    break
                else:
                    st.flags[i] = 1
            elif ev == K.TERMINAL:
                i = int(sc[K.SC_EVENT])
                if out.offer(terminal(c, self.state(i), self.path(i))):
                    self.sync()
                    break
                sc[K.SC_HEAD] = i + 1
            elif ev == K.FAULT:
                if _python_expand(c, m, sc, self.state, self.path, out, self.stored):
                    self.sync()
                    break
            else:
                raise AssertionError(f"kernel event {ev}")
        return self.finish()

    def _swap(self, kernel: KernelOf) -> None:
        """Go on in `kernel`. The swap is an optimisation: a kernel that
        cannot be built (an LLVM failure) leaves the search where it is."""
        self.then = None
        try:
            self.kernel, self.code = kernel(self.prog)
        except Exception:
            return

    def _checkpoint(self) -> None:
        """--checkpoint: save the search if the period has passed
        (checker/vm/checkpoint.py)."""
        opts = self.budget.opts
        if opts.checkpoint is None or time.monotonic() - self.saved_at < opts.checkpoint_every:
            return
        from checker.vm.checkpoint import save

        self.sync()
        save(Path(opts.checkpoint), self.c, self.st, self.sc, self.fired, self.covered,
             self.seconds_before + self.budget.elapsed(), self.out, unreduced=opts.unreduced)
        self.saved_at = time.monotonic()

    def stored(self, s: int) -> bool:
        """Whether state `s` (packed) is in the store: the --por proviso of
        a state the Python engine expands for the kernel (dense only)."""
        row = self.prog.layout.words_of(s)
        return bool(K.find(self.st.table, self.st.store, row, -1) >= 0)

    def finish(self) -> Mapping[int, int]:
        return finish(self.c, self.prog, self.st, self.sc, self.fired, self.covered,
                       self.graph)


def _python_expand(c: Compiled, m: Machine, sc: Words, state: Callable[[int], int],
                   path: Callable[[int], Callable[[], list[int]]], out: Outcome,
                   stored: Callable[[int], bool]) -> bool:
    """Expand the state the kernel gave up on as `bfs` does (with --por,
    reduced alike: `stored` says which states were seen); its successors
    go back to the kernel to store. True if the search stops."""
    i = int(sc[K.SC_EVENT])
    s = state(i)
    reduce = reducer(c)
    try:
        succ = c.expand(s) if reduce is None else reduce(s, _Seen(stored))
    except Fault:
        succ, faults = expand_safely(c, s, path(i))
        warned_slowly(c, s)
        take_warnings(c, m.prog, s, path(i), out)
        if offer_faults(out, faults):
            return True
        if not succ:
            sc[K.SC_HEAD] = i + 1
            return False
    take_warnings(c, m.prog, s, path(i), out)
    if not succ:
        if out.offer(terminal(c, s, path(i))):
            return True
        sc[K.SC_HEAD] = i + 1
        return False
    layout = m.prog.layout
    for j, t in enumerate(succ):
        m.out[j] = layout.words_of(t)
    sc[K.SC_TRANS] += len(succ)
    sc[K.SC_K] = len(succ)
    sc[K.SC_POS] = 0
    return False


class _Seen:
    """`stored` as the container `explore.por`'s expansion asks."""

    def __init__(self, stored: Callable[[int], bool]):
        self._stored = stored

    def __contains__(self, s: object) -> bool:
        return isinstance(s, int) and self._stored(s)


def take_warnings(c: Compiled, prog: Program, s: int, path: Callable[[], list[int]],
                  out: Outcome) -> None:
    """The warnings the Python engine's expansion of `s` fired (a state the
    kernel escaped on), recorded as `bfs` records them; their sites then
    stop escaping."""
    if c.runtime.pending:
        out.warned(c, s, path)
        silence(prog, out.warnings)


def finish(c: Compiled, prog: Program, st: Visited, sc: Words, fired: np.ndarray,
            covered: np.ndarray, graph: StateGraph | None) -> Mapping[int, int]:
    """What the kernel saw executed goes to `c` (the vacuity report reads
    it there); the steps to `graph`; the parent map."""
    for a in np.nonzero(fired)[0].tolist():
        c.fired[a] = 1
    c.runtime.covered.update(k for k in np.nonzero(covered)[0].tolist() if k < len(c.ts.covers))
    n = int(sc[K.SC_N])
    cache: dict[int, int] = {}

    def index() -> dict[int, int]:
        if not cache:
            cache.update((s, i) for i, s in enumerate(packed_states(prog, st.rows(n), n)))
        return cache

    if graph is not None:
        e = int(sc[K.SC_EDGES])
        graph.rows.frombytes(st.edges[:e, 0].astype(np.int64).tobytes())
        graph.cols.frombytes(st.edges[:e, 1].astype(np.int64).tobytes())
        graph.count = n

        def fill(g: StateGraph) -> None:
            g.index = index()

        graph.filler = fill
    return StoreParents(index, lambda i: prog.layout.int_of(st.row(i)), st.parent, n)


def _limb_segments(prog: Program) -> tuple[np.ndarray, int]:
    """The layout's segments as kernel rows, and the packed int's limbs."""
    segs = np.array([[g.packed, g.width, g.word, g.shift] for g in prog.layout.segments],
                    dtype=np.int64).reshape(-1, 4)
    total = max((g.packed + g.width for g in prog.layout.segments), default=0)
    return segs, max((total + 63) // 64, 1)


def words_of_packed(prog: Program, states: list[int]) -> np.ndarray:
    """Codegen's packed ints as store rows, in bulk (`packed_states`'s inverse)."""
    segs, limbs = _limb_segments(prog)
    raw = b"".join(s.to_bytes(8 * limbs, "little") for s in states)
    packed = np.frombuffer(raw, dtype="<u8").reshape(len(states), limbs)
    return K.store_rows(packed.astype(np.uint64), segs, prog.layout.nwords)


def packed_states(prog: Program, store: np.ndarray, n: int) -> list[int]:
    """States 0..n-1 as codegen's packed ints, in bulk."""
    segs, nlimbs = _limb_segments(prog)
    limbs = K.packed_limbs(store, n, segs, nlimbs).astype("<u8", copy=False)
    from_bytes = int.from_bytes
    return [from_bytes(row.tobytes(), "little") for row in limbs]
